"""Start the MLM Explorer web app: `python app.py [--host H] [--port P] [--share] [--model M] [--allow-local DIR]`."""

from explorer.ui.app import main

if __name__ == "__main__":
    main()
