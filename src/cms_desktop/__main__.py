"""``python -m cms_desktop``."""

import sys

from cms_desktop.cli import main

sys.exit(main())
