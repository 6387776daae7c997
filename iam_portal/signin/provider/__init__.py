"""The portal's OpenID Connect provider for allauth (allauth imports `provider_classes` from here, and the
login and callback URLs from `urls.py`)."""

from iam_portal.signin.provider.oidc import PortalOIDCProvider

provider_classes = [PortalOIDCProvider]
