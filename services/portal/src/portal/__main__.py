from portal.main import main

raise SystemExit(main())
