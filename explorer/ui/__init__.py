"""The Gradio web app: one module per tab, assembled in `explorer.ui.app.build_demo`."""

import os

# The app must work offline and make no request a user did not ask for.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
