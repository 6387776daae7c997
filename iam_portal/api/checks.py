from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def signing_key_configured(app_configs, **kwargs):
    if settings.SIGNING_KEY:
        return []
    return [
        Warning(
            "SIGNING_KEY_FILE is not set: the machine API signs its tokens with a key generated on this "
            "machine, which other machines do not share and which is lost with the container.",
            hint="Point SIGNING_KEY_FILE at an RSA private key in PEM, e.g. made with "
            "`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out signing-key.pem`.",
            id="api.W001",
        )
    ]
