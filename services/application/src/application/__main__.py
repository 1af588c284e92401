from application.main import main

raise SystemExit(main())
