"""A LLaMA-Factory dataset folder: the data file in sharegpt layout plus a `dataset_info.json` entry for it.

Exporting into a folder that already has a `dataset_info.json` (LLaMA-Factory's own `data/`) adds or
replaces only our entry, so the other datasets described there stay usable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.errors import BadInputError
from backend.io.exporters.files import write_json, write_rows

DATASET_INFO = "dataset_info.json"
_SHAREGPT_TAGS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                  "system_tag": "system"}


def dataset_name(kind: str) -> str:
    return "avr_" + kind.replace("-", "_")  # avr_pairs, avr_sft, avr_long_thought


def write_folder(rows: list[dict[str, Any]], folder: Path, kind: str, file_format: str) -> list[Path]:
    """Write the data file and our `dataset_info.json` entry; returns both paths."""
    if folder.exists() and not folder.is_dir():
        raise BadInputError(f"{folder}: a LLaMA-Factory export needs a folder for --out, not a file")
    if not folder.exists() and folder.suffix.lower() in (".json", ".jsonl", ".parquet"):
        raise BadInputError(f"{folder}: a LLaMA-Factory export writes a folder (the data file and its "
                            f"dataset_info.json); give --out a folder name such as {folder.with_suffix('').name!r}")
    name = dataset_name(kind)
    data_file = folder / f"{name}.{file_format}"
    info_path = folder / DATASET_INFO
    info = _existing_info(info_path)
    info[name] = _describe(data_file.name, ranking=kind == "pairs", has_system=any("system" in r for r in rows))
    write_rows(rows, data_file, file_format)
    write_json(info, info_path)
    return [data_file, info_path]


def _describe(file_name: str, ranking: bool, has_system: bool) -> dict[str, Any]:
    columns = {"messages": "conversations"}
    if ranking:
        columns |= {"chosen": "chosen", "rejected": "rejected"}
    if has_system:
        columns["system"] = "system"
    return {"file_name": file_name, "formatting": "sharegpt", "ranking": ranking, "columns": columns,
            "tags": dict(_SHAREGPT_TAGS)}


def _existing_info(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: line {exc.lineno}: bad JSON ({exc.msg}); fix it or export to another "
                            "folder") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 or export to another "
                            "folder") from None
    except (OSError, RecursionError, ValueError) as exc:
        raise BadInputError(f"{path}: cannot be read ({type(exc).__name__}: {exc}); export to another folder"
                            ) from None
    if not isinstance(info, dict):
        raise BadInputError(f"{path}: expected a JSON object of dataset descriptions; export to another folder")
    return info
