"""Collects the secrets that plugins declare with the ``register_secrets`` hook."""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from datasette.plugins import pm
from datasette.utils import await_me_maybe

log = logging.getLogger("datasette_secrets")

# Names become environment variables and URL segments, so keep them plain.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Secret:
    """A secret that a plugin needs, declared from its ``register_secrets`` hook.

    ``description`` is plain text, escaped on the page like any other text
    (plugins build descriptions from configuration); for markup, pass a
    ``markupsafe.Markup``. ``obtain_url``/``obtain_label`` give a link to where
    an admin can get a value.

    ``check`` (keyword only) lets an admin test a value from the admin page:
    an async function ``check(datasette, value)`` returning ``(ok, message)``,
    e.g. ``(True, "Works: 3 models available")`` or ``(False, "Rejected: 401")``.
    It runs on the server with the value plugins would get, for at most 10
    seconds; an exception or a timeout counts as a failure. The message is
    shown as text; never put the value in it.

    ``personal`` (keyword only, default False) lets every signed-in actor
    store a value of their own at /-/secrets/-/mine (their own API key, billed
    to them): ``get_secret(datasette, name, actor_id)`` then returns that
    actor's own value first, and the shared value (environment variable, then
    stored) when they have none.
    """

    name: str
    description: str | None = None
    obtain_url: str | None = None
    obtain_label: str | None = None
    check: Callable[..., Awaitable[tuple[bool, str]]] | None = field(
        default=None, kw_only=True, repr=False
    )
    personal: bool = field(default=False, kw_only=True)


@dataclass(frozen=True)
class Registration:
    secret: Secret
    plugin: str


class Registry:
    """The registered secrets of one Datasette instance, collected once.

    The ``register_secrets`` hooks run on first use and again only when the set
    of plugins implementing the hook changes (``pm.register``/``pm.unregister``),
    which ``current()`` notices by comparing the hook's implementations: a list
    comparison, cheap enough for every ``get_secret`` call.
    """

    def __init__(self, personal=frozenset()):
        self._implementations = None
        self._found = None
        # Names the site's configuration makes personal (secrets: NAME: personal: true),
        # for plugins that register secrets without personal=True.
        self._personal = personal

    def current(self):
        """{name: Registration}, or None when plugins changed since the last collect."""
        if pm.hook.register_secrets.get_hookimpls() == self._implementations:
            return self._found
        return None

    async def get(self, datasette):
        found = self.current()
        if found is None:
            found = await self.collect(datasette)
        return found

    async def collect(self, datasette):
        """Run every hook again and keep the result."""
        implementations = pm.hook.register_secrets.get_hookimpls()
        found = await _collect(datasette, implementations)
        for name in self._personal & found.keys():
            registration = found[name]
            if not registration.secret.personal:
                found[name] = Registration(replace(registration.secret, personal=True), registration.plugin)
        self._implementations, self._found = implementations, found
        return found


async def _collect(datasette, implementations):
    """{name: Registration} from these hook implementations.

    When several plugins register the same name, the plugin whose name sorts
    first wins (and within one plugin, the first occurrence), so the result
    does not depend on the order plugins happen to be loaded in.
    """
    found = {}
    for plugin, impl in sorted(_named(implementations), key=lambda pair: pair[0]):
        result = impl.function(**{arg: datasette for arg in impl.argnames})
        if callable(result):
            result = result()
        for secret in await await_me_maybe(result) or []:
            if not (
                isinstance(secret, Secret)
                and isinstance(secret.name, str)
                and NAME_PATTERN.fullmatch(secret.name)
            ):
                log.warning("datasette-secrets: %s registered an invalid secret %r", plugin, secret)
                continue
            if secret.name in found:
                if found[secret.name].plugin != plugin:
                    log.info(
                        "datasette-secrets: %s is registered by %s and %s; using %s",
                        secret.name, found[secret.name].plugin, plugin, found[secret.name].plugin,
                    )
                continue
            found[secret.name] = Registration(secret, plugin)
    return found


def _named(implementations):
    """(plugin name, implementation) pairs: the package name where there is one.

    Reads every plugin's package metadata, so it runs only when plugins change.
    """
    distributions = {
        id(plugin): dist.project_name for plugin, dist in pm.list_plugin_distinfo()
    }
    for impl in implementations:
        yield distributions.get(id(impl.plugin), impl.plugin_name), impl
