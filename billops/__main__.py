from billops.cli import main

raise SystemExit(main())
