"""Why a sign-in was refused, in words for the person signing in. One code per reason; the code goes to the
log (events.py), the sentence to the page. Every refusal changes nothing in the portal."""

from django.shortcuts import render

REASONS = {
    # The provider answered, but the portal's rules say no (403).
    "unverified_email": (
        "{provider} has not confirmed that {email} is your address, so the portal cannot match it to an "
        "account. Ask your administrator to verify the address in {provider}, then sign in again."
    ),
    "no_email": "{provider} did not send your email address, so the portal cannot find your account.",
    "unknown_account": (
        "No portal account uses {email}. Accounts are created by a Console administrator: ask them to "
        "create yours, then sign in again."
    ),
    "inactive": "The portal account {email} is deactivated. Ask a Console administrator to reactivate it.",
    # The provider's answer could not be trusted (400).
    "wrong_issuer": (
        "The answer did not come from the identity provider this portal is configured for "
        "(unexpected issuer), so it was refused."
    ),
    "bad_signature": "{provider}'s answer is not signed with its published keys, so it was refused.",
    "replayed_nonce": (
        "{provider}'s answer belongs to another sign-in attempt (it may have been replayed), so it was refused."
    ),
    "wrong_audience": "{provider}'s answer was issued to another application, so it was refused.",
    "expired": "{provider}'s answer has expired or is not valid yet. Check the clocks, then sign in again.",
    "bad_token": "{provider}'s answer could not be verified, so it was refused.",
    "unknown_state": (
        "This sign-in attempt is unknown or was already used (for example after reloading the page). "
        "Start again from the sign-in page."
    ),
    "provider_error": "{provider} did not complete the sign-in: the code was refused or has already been used.",
    # The provider could not be reached (502).
    "provider_unreachable": (
        "The portal could not reach {provider}. Try again in a moment; if it keeps happening, tell your "
        "administrator."
    ),
}
POLICY = {"unverified_email", "no_email", "unknown_account", "inactive"}


def reason_text(reason: str, *, provider: str, email: str = "") -> str:
    return REASONS.get(reason, REASONS["bad_token"]).format(provider=provider, email=email or "your address")


def refusal_response(request, reason: str, *, provider: str, email: str = ""):
    """The page that says why: 403 for the portal's rules, 502 when the provider is down, else 400."""
    status = 403 if reason in POLICY else 502 if reason == "provider_unreachable" else 400
    context = {"message": reason_text(reason, provider=provider, email=email), "provider_name": provider}
    return render(request, "socialaccount/authentication_error.html", context, status=status)
