from judgement.main import main

raise SystemExit(main())
