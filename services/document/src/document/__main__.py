from document.main import main

raise SystemExit(main())
