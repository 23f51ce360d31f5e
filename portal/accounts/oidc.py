"""OpenID Connect sign-in with Authlib: discovery, code flow with PKCE, state and nonce.

Authlib does the protocol: it reads the provider's discovery document from OIDC_ISSUER,
sends the browser there with a random `state`, a `nonce` and a PKCE challenge (S256) kept
in the session, and at the callback checks the state (forged or replayed: refused), trades
the code and validates the ID token: signature from the provider's published keys, issuer,
audience (our client id), expiry and nonce. Here we only pin what Authlib would take from
the provider's own word: the accepted signing algorithms (never `none`, never a shared-secret
HMAC), the issuer, which must be the one configured, and the audience, which Authlib
checks only when told (without it a token for another client that names us as `azp` passes).

Authlib, requests, joserfc and cryptography are imported only where sign-in with a
provider is configured and used: a worker without it holds about 25 MB less.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app

from portal.accounts.signin import ExternalIdentity

log = logging.getLogger(__name__)

EXTENSION = "firstfix_oidc"
NAME = "oidc"
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


class ProviderUnavailable(RuntimeError):
    """The identity provider could not be reached (discovery, keys or token endpoint)."""


class SignInRefused(RuntimeError):
    """The answer from the provider failed a check; the message is fit to show."""


def enabled(app: Flask | None = None) -> bool:
    app = app or current_app
    return bool(app.config.get("OIDC_ISSUER"))


def init_app(app: Flask) -> None:
    """One Authlib client per app, configured from the OIDC_* keys."""
    if not enabled(app):
        return
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": float(app.config["OIDC_TIMEOUT"]),
        },
    )
    app.extensions[EXTENSION] = oauth


def _client():
    return current_app.extensions[EXTENSION].create_client(NAME)


def _metadata(client) -> dict[str, Any]:
    """The provider's discovery document, with the algorithms and issuer pinned."""
    import requests

    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(str(exc)) from exc
    configured = current_app.config["OIDC_ISSUER"].rstrip("/")
    if str(metadata.get("issuer", "")).rstrip("/") != configured:
        raise SignInRefused("The sign-in provider names a different issuer than configured.")
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    metadata["id_token_signing_alg_values_supported"] = [a for a in offered if a in ALGORITHMS]
    return metadata


def authorize_redirect(redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce, PKCE kept in the session)."""
    import requests

    client = _client()
    _metadata(client)
    try:
        return client.authorize_redirect(redirect_uri)
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc


def complete() -> ExternalIdentity:
    """Check the provider's answer at the callback and say who signed in."""
    import requests
    from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
    from joserfc.errors import JoseError

    client = _client()
    metadata = _metadata(client)
    config = current_app.config
    try:
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "values": [metadata["issuer"]]},
                # Authlib checks aud only against values given here (else only azp).
                "aud": {"essential": True, "values": [config["OIDC_CLIENT_ID"]]},
                "exp": {"essential": True},
                "sub": {"essential": True},
            },
            leeway=60,
        )
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc
    except MismatchingStateError as exc:
        raise SignInRefused(
            "the answer does not belong to a sign-in started in this browser, or came twice"
        ) from exc
    except OAuthError as exc:
        raise SignInRefused(_describe(exc)) from exc
    except (JoseError, ValueError, KeyError) as exc:
        raise SignInRefused(f"the ID token failed a check ({_describe(exc)})") from exc
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefused("the provider sent no ID token")
    claims = dict(claims)
    if not claims.get("email") and metadata.get("userinfo_endpoint"):
        try:
            extra = dict(client.userinfo(token=token))
        except requests.RequestException as exc:
            raise ProviderUnavailable(str(exc)) from exc
        if extra.get("sub") == claims.get("sub"):
            claims = {**extra, **claims}
    if claims.get("email_verified") is False:
        raise SignInRefused("the provider has not verified your email address")
    groups = claims.get(config["OIDC_ROLES_CLAIM"]) or []
    if isinstance(groups, str):
        groups = groups.split()
    name = claims.get("name") or " ".join(
        p for p in (claims.get("given_name"), claims.get("family_name")) if p
    )
    return ExternalIdentity(
        source="oidc",
        external_id=f"{metadata['issuer']} {claims['sub']}",
        email=str(claims.get("email") or ""),
        name=str(name or ""),
        groups=[str(g) for g in groups] if isinstance(groups, list) else [],
    )


def _describe(exc: Exception) -> str:
    text = getattr(exc, "description", None) or getattr(exc, "error", None) or str(exc)
    return str(text or type(exc).__name__)[:200]
