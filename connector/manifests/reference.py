"""The operations reference in README.md (``flask manifest reference --write``): what each action,
search and trigger takes and answers, generated from the same declarations as the apps."""

from __future__ import annotations

from actions import ACTIONS, SEARCHES
from connector.manifests.fields import InputField, group_label, input_fields
from connector.manifests.zapier import INSTANT_SUFFIX
from connector.operations import Operation, Trigger
from triggers import TRIGGERS

_KINDS = {"action": ("Actions", "POST", "actions"), "search": ("Searches", "GET", "searches"),
          "trigger": ("Triggers", "GET", "triggers")}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(field: InputField) -> str:
    if field.choices:
        return " \\| ".join(f"`{value}`" for value in field.choices)
    if field.format:
        return field.format
    return {"object": "object (key/value)", "array": "list"}.get(field.type, field.type)


def _inputs(operation: Operation) -> list[str]:
    fields = input_fields(operation)
    if not fields:
        return []
    rows = ["| Field | Label | Type | Notes |", "|---|---|---|---|"]
    for field in fields:
        notes = ("**Required.** " if field.required else "") + field.help
        if field.group:
            notes = f"_{group_label(field.group)} group._ {notes}"
        if field.default is not None:
            notes += f" Default {field.default}."
        rows.append(f"| `{field.key}` | {_cell(field.label)} | {_type(field)} | {_cell(notes.strip())} |")
    return rows + [""]


def _operation(operation: Operation) -> list[str]:
    _title, method, path = _KINDS[operation.kind]
    answer = {"action": f"{operation.status}, one object",
              "search": "200, an array (best match first; empty = not found)",
              "trigger": "200, a bare array, newest first"}[operation.kind]
    lines = [f"#### {operation.label} (`{operation.key}`)", "", operation.description]
    if operation.help:
        lines[-1] += " " + operation.help
    lines += ["", f"`{method} /v1/{path}/{operation.key}` → {answer}."]
    if isinstance(operation, Trigger):
        lines[-1] += (" Query: `limit`, `since`, `after_id`, `page`. Also instant: Zapier "
                      f"`{operation.key}{INSTANT_SUFFIX}`, Make \"(Instant)\" module, by REST hook "
                      f"(`POST /v1/hooks` with `event={operation.key}`).")
    pairing = getattr(operation, "search_or_create", None)
    if pairing is not None:
        lines[-1] += f" Zapier \"{pairing.label}\" creates with `{pairing.create}` when nothing is found."
    lines.append("")
    lines += _inputs(operation)
    outputs = ", ".join(f"`{field.key}`" for field in operation.output_fields)
    lines += [f"Answers: {outputs}.", ""]
    return lines


def operations_reference() -> str:
    """Markdown for README's ``operations`` section."""
    lines: list[str] = []
    for operations in (ACTIONS, SEARCHES, TRIGGERS):
        lines += [f"### {_KINDS[operations[0].kind][0]}", ""]
        for operation in operations:
            lines += _operation(operation)
    return "\n".join(lines).rstrip() + "\n"
