"""Start the MLM Explorer web app: `python app.py [--host H] [--port P] [--share] [--model M]`."""

import argparse

from explorer.ui.app import add_serve_arguments, serve

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Start the MLM Explorer web app.")
    add_serve_arguments(parser)
    serve(parser.parse_args())
