"""Human-readable plan text, in the spirit of Apollo's query plan printer (what `kyodo plan` shows)."""

from __future__ import annotations

from graphql import parse, print_ast

from gateway.planner.nodes import (Condition, Defer, DeferredNode, Fetch, Flatten, Parallel, PlanNode, QueryPlan,
                                    Sequence, SubscriptionNode)


def _pretty_operation(text: str) -> str:
    try:
        return print_ast(parse(text))
    except Exception:  # noqa: BLE001 - printing must never fail on odd text
        return text


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line if line else line for line in text.splitlines())


def _node(node: PlanNode, pad: str) -> str:
    inner = pad + "  "
    if isinstance(node, Fetch):
        head = f'{pad}Fetch(service: "{node.subgraph}") {{'
        return head + "\n" + _indent(_pretty_operation(node.operation), inner) + "\n" + pad + "}"
    if isinstance(node, Flatten):
        path = ".".join(node.path)
        return f'{pad}Flatten(path: "{path}") {{\n' + _node(node.node, inner) + "\n" + pad + "}"
    if isinstance(node, (Sequence, Parallel)):
        name = "Sequence" if isinstance(node, Sequence) else "Parallel"
        body = ",\n".join(_node(n, inner) for n in node.nodes)
        return f"{pad}{name} {{\n{body}\n{pad}}}"
    if isinstance(node, SubscriptionNode):
        deeper = inner + "  "
        parts = [f"{pad}Subscription {{", f"{inner}Primary: {{", _node(node.primary, deeper), f"{inner}}},"]
        if node.rest is not None:
            parts += [f"{inner}Rest: {{", _node(node.rest, deeper), f"{inner}}}"]
        parts.append(pad + "}")
        return "\n".join(parts)
    if isinstance(node, Condition):
        if node.if_clause is None and node.else_clause is not None:
            # only runs when the variable is false: what @skip(if: $v) leads to
            return f"{pad}Skip(if: ${node.variable}) {{\n" + _node(node.else_clause, inner) + "\n" + pad + "}"
        parts = [f"{pad}Include(if: ${node.variable}) {{"]
        if node.if_clause is not None:
            parts.append(_node(node.if_clause, inner))
        if node.else_clause is not None:
            parts.append(f"{pad}}} Else {{")
            parts.append(_node(node.else_clause, inner))
        parts.append(pad + "}")
        return "\n".join(parts)
    if isinstance(node, Defer):
        parts = [f"{pad}Defer {{", f"{inner}Primary {{"]
        if node.primary is not None:
            parts.append(_node(node.primary, inner + "  "))
        parts.append(inner + "},")
        parts.append(f"{inner}[")
        parts.append(",\n".join(_deferred(d, inner + "  ") for d in node.deferred))
        parts.append(f"{inner}]")
        parts.append(pad + "}")
        return "\n".join(parts)
    return pad + repr(node)


def _deferred(node: DeferredNode, pad: str) -> str:
    label = f', label: "{node.label}"' if node.label is not None else ""
    head = f'{pad}Deferred(path: "{".".join(node.path)}"{label}) {{'
    inner = pad + "  "
    parts = [head]
    if node.node is None:
        parts.append(f"{inner}(fetched with the part it depends on)")
    else:
        parts.append(_node(node.node, inner))
    if node.deferred:
        parts.append(f"{inner}[")
        parts.append(",\n".join(_deferred(d, inner + "  ") for d in node.deferred))
        parts.append(f"{inner}]")
    parts.append(pad + "}")
    return "\n".join(parts)


def print_plan(plan: QueryPlan) -> str:
    if plan.node is None:
        return "QueryPlan {}"
    return "QueryPlan {\n" + _node(plan.node, "  ") + "\n}"
