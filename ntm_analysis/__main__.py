"""Allow ``python -m ntm_analysis``."""

from ntm_analysis.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
