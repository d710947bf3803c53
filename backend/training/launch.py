"""Train a prepared run folder from the command line, so that the same trainer code runs under
`accelerate launch` on several processes or machines:

    accelerate launch --config_file packaging/accelerate/ddp.yaml -m backend.training.launch runs/<id>

Every process runs the same session; only the main one writes events, the output and the result.
"""

from __future__ import annotations

import argparse
import json
import sys

from backend.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.training.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="A run folder prepared by the app or `avr-studio train` (runs/<id>).")
    parser.add_argument("--quiet", action="store_true", help="Do not print each event as a JSON line.")
    parser.add_argument("--base-folder", default=None,
                        help="Load the run's base model from this folder (the same model copied to this machine); "
                        "for a run on top of another run, a merged copy of that run (runs/<id>/merged).")
    args = parser.parse_args(argv)
    from backend.training.trainer import train_run

    def show(event) -> None:
        if not args.quiet:
            print(json.dumps(event.to_dict()), flush=True)

    try:
        result = train_run(args.run_dir, on_event=show, base_folder=args.base_folder)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if result.status == "finished" else 1


if __name__ == "__main__":
    sys.exit(main())
