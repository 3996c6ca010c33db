"""The footer of every screen: Textual's, rebuilt only when the keys it shows change.

Textual's ``Footer`` rebuilds all its keys whenever a screen refreshes its bindings: on every focus change,
and on every move of the tool log's cursor (whose keys depend on the row). A rebuild costs a few
milliseconds a key plus a layout, and each replaced key stays alive, bound to the footer's ``compact``
watcher (Textual issue #6666), so a long session pays more for every key than the one before. This footer
compares what it would show with what it shows, rebuilds only on a difference, and lets the replaced keys go.
"""

from __future__ import annotations

from textual.widgets import Footer

Shown = tuple[object, ...]


class KeyFooter(Footer):
    """A ``Footer`` that rebuilds only when its keys change and keeps no key it replaced."""

    _shown: Shown | None = None

    def _keys(self) -> Shown:
        """What a rebuild would show: each key with its label, state and group, and the footer's own settings."""
        palette = self.app.COMMAND_PALETTE_BINDING
        keys = tuple(
            (binding.key, binding.key_display, binding.description, binding.action, binding.group, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        )
        return (self._bindings_ready, self.compact, self.show_command_palette, self.combine_groups, keys)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = self._keys()
        if shown == self._shown:
            return
        self._shown = shown
        await super().recompose()
        self._forget_replaced()

    def _forget_replaced(self) -> None:
        """Drop the watchers that bound each replaced key to this footer (they would keep it alive)."""
        watchers: dict[str, list[tuple[object, object]]] = getattr(self, "__watchers", {})
        for bound in watchers.values():
            bound[:] = [(node, callback) for node, callback in bound if getattr(node, "is_attached", True)]
