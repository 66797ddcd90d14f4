"""Run `tenantctl` as `python -m tenancy`."""

import sys

from tenancy.cli import main

sys.exit(main())
