"""Resource-directory folders of a member account, for FolderIdsScope / ExcludeFolderIdsScope.

An account is "in" a folder when the folder is its own or any ancestor of it. Looked up through
ResourceManager (2020-03-31): GetAccount gives the account's FolderId, ListAncestors the folders
above it. Results are cached per account for the life of the (warm) FC instance, up to ``ttl``.

Example::

    folders = DirectoryFolders(client)
    folders("1234567890")        # frozenset({'fd-abc', 'r-root'})
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._api import ApiClient
from ._endpoints import PRODUCTS, resolve_endpoint
from ._errors import RulekitError, ScopeError

if TYPE_CHECKING:
    from ._scope import FolderResolver

__all__ = ["DirectoryFolders", "FolderCache", "FolderLookups"]

#: Folder ids by account id, with the time they were looked up.
FolderCache = dict[str, tuple[float, frozenset[str]]]


class DirectoryFolders:
    """A :data:`~rulekit._scope.FolderResolver` backed by the ResourceManager API."""

    def __init__(
        self,
        client: ApiClient,
        endpoint: str | None = None,
        *,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        cache: FolderCache | None = None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint or resolve_endpoint("ResourceManager", client.region_id)
        self.ttl = ttl
        self._clock = clock
        # Pass one cache to the resolvers of successive invocations to keep lookups for ``ttl``.
        self._cache: FolderCache = cache if cache is not None else {}

    def _call(self, action: str, **params: str) -> dict[str, object]:
        product = PRODUCTS["resourcemanager"]
        return self.client.call(
            action, params, product=product.name, version=product.version, endpoint=self.endpoint
        )

    def __call__(self, account_id: str) -> frozenset[str]:
        now = self._clock()
        cached = self._cache.get(account_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        account = self._call("GetAccount", AccountId=account_id).get("Account")
        folder = account.get("FolderId") if isinstance(account, dict) else None
        folders: set[str] = set()
        if isinstance(folder, str) and folder:
            folders.add(folder)
            ancestors = self._call("ListAncestors", ChildId=folder).get("Folders")
            entries = ancestors.get("Folder") if isinstance(ancestors, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and entry.get("FolderId"):
                    folders.add(str(entry["FolderId"]))
        result = frozenset(folders)
        self._cache[account_id] = (now, result)
        return result


class FolderLookups:
    """The dispatcher's folder resolver, asked once per account and sweep however many workers
    ask at once; a failed lookup is remembered for the sweep, so an account that left the
    resource directory costs one GetAccount, not one per resource."""

    def __init__(self, folders: FolderResolver) -> None:
        self._folders = folders
        self._lock = threading.Lock()
        self._per_account: dict[str, threading.Lock] = {}
        self._found: dict[str, frozenset[str] | str] = {}  # folders, or why the lookup failed

    def __call__(self, account_id: str) -> frozenset[str]:
        with self._lock:
            lock = self._per_account.setdefault(account_id, threading.Lock())
        with lock:
            found = self._found.get(account_id)
            if found is None:
                try:
                    found = self._folders(account_id)
                except RulekitError as exc:
                    found = str(exc)
                self._found[account_id] = found
        if isinstance(found, str):
            raise ScopeError(f"the folders of account {account_id} are unknown: {found}")
        return found
