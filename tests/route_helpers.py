"""The admin UI's routes as concrete paths, enumerated from ``views.ROUTES``.

Tests that must cover every route (the permission matrix, the fuzz tests) take
them from here instead of a hand-written list, so a new route is covered, or
fails loudly, the day it is added.

A route pattern becomes one or more *templates*: the secret's name group turns
into ``{name}``, and an optional literal group (``(?P<format>\\.json)?``) gives
one template without it and one with it. Any other regex syntax fails at import
with a message saying to teach this module about it.
"""

import re

from datasette_secrets import views

NAME_GROUP_BODY = "[^/]+"
GROUP = re.compile(r"\(\?P<(?P<group>\w+)>(?P<body>(?:\\.|[^()\\])*)\)(?P<optional>\?)?")
# Plain characters and backslash-escaped punctuation: a literal, such as \.json
ESCAPED_LITERAL = re.compile(r"(?:\\[^A-Za-z0-9]|[A-Za-z0-9/_~-])*")
REGEX_SYNTAX = re.compile(r"[\\()\[\]{}?*+^$|.]")


def _cannot(pattern):
    return AssertionError(
        f"Cannot turn route {pattern!r} into paths: teach tests/route_helpers.py its syntax"
    )


def templates(pattern):
    """'^/-/secrets/(?P<name>[^/]+)/row$' becomes ['/-/secrets/{name}/row']."""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise _cannot(pattern)
    body = pattern[1:-1]
    variants = [""]
    position = 0
    for group in GROUP.finditer(body):
        literal = body[position : group.start()]
        if REGEX_SYNTAX.search(literal):
            raise _cannot(pattern)
        if group["group"] == "name" and group["body"] == NAME_GROUP_BODY and not group["optional"]:
            choices = ["{name}"]
        elif group["optional"] and ESCAPED_LITERAL.fullmatch(group["body"]):
            choices = ["", re.sub(r"\\(.)", r"\1", group["body"])]
        else:
            raise _cannot(pattern)
        variants = [variant + literal + choice for variant in variants for choice in choices]
        position = group.end()
    if REGEX_SYNTAX.search(body[position:]):
        raise _cannot(pattern)
    variants = [variant + body[position:] for variant in variants]
    for variant in variants:
        assert re.fullmatch(pattern, path(variant)), (pattern, variant)
    return variants


def path(route_template, segment="API_KEY"):
    """The template's path with ``segment`` (already URL-encoded) as the name."""
    return route_template.replace("{name}", segment)


def has_name(route_template):
    return "{name}" in route_template


# (pattern, template, view) for every path shape of every route.
ROUTES = [
    (pattern, route_template, view)
    for pattern, view in views.ROUTES
    for route_template in templates(pattern)
]
TEMPLATES = [route_template for _, route_template, _ in ROUTES]
NAME_TEMPLATES = [t for t in TEMPLATES if has_name(t)]
