"""`python -m emulator` runs the device, like the whatwatt-emulator command."""

from emulator.cli import main

raise SystemExit(main())
