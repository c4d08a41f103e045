import sys

from boligsocial.cli.main import main

sys.exit(main())
