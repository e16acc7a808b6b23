"""Start the MLM Explorer web app: `python app.py [--host H] [--port P] [--share] [--model M] [--allow-local DIR]`."""

import sys

from explorer.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
