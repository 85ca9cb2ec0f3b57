"""Run the routing HTTP service: ``python serve.py --model DIR [--host H] [--port P] [--db URL]``.

The same as ``routing serve``; settings can also come from ROUTING_* environment variables.
"""

from routing.cli.service import serve_app

if __name__ == "__main__":
    serve_app()
