from identity.main import main

raise SystemExit(main())
