"""``python -m midil_sync._cli``: the ``midil`` command without the console script."""

from midil_sync._cli import main

if __name__ == "__main__":
    main()
