from notification.main import main

raise SystemExit(main())
