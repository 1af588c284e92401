from consent.main import main

raise SystemExit(main())
