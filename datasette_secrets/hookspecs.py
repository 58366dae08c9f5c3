from pluggy import HookspecMarker

hookspec = HookspecMarker("datasette")


@hookspec
def register_secrets(datasette):
    """Return the secrets this plugin needs, as a list of ``Secret`` objects.

    An implementation may leave out the ``datasette`` argument. It may return
    the list itself, a function returning the list, or an async function
    returning the list.
    """
