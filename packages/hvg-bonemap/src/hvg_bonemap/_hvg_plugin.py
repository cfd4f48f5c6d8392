"""Built-in parts of hvg-bonemap, registered through the `hvg` entry-point group.

Uses pluggy's marker directly (not hvg_core) so that hvg-bonemap stays standalone.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("hvg")
