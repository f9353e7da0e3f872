"""Where an app client's secret hash goes in each Cognito request: botocore's top-level
``SecretHash`` parameter for the account and password operations, ``SECRET_HASH`` inside
``AuthParameters`` and ``ChallengeResponses``."""

from __future__ import annotations

from midil_common.auth.cognito_flows import CognitoApp, secret_hash

APP = CognitoApp("us-east-1_Pool1", "app", "s3cret")
EXPECTED = secret_hash("ada@example.com", "app", "s3cret")


def test_account_and_password_operations_send_the_top_level_parameter() -> None:
    calls = [
        APP.sign_up("ada@example.com", "Passw0rd!", {}),
        APP.confirm_sign_up("ada@example.com", "123456"),
        APP.resend_confirmation("ada@example.com"),
        APP.forgot_password("ada@example.com"),
        APP.confirm_forgot_password("ada@example.com", "123456", "N3w-Passw0rd!"),
    ]
    for call in calls:
        assert call.params["SecretHash"] == EXPECTED, call.operation
        assert "SECRET_HASH" not in call.params, call.operation


def test_login_sends_it_among_the_auth_parameters() -> None:
    call = APP.login("ada@example.com", "Passw0rd!")
    assert call.params["AuthParameters"]["SECRET_HASH"] == EXPECTED
    assert "SecretHash" not in call.params


def test_a_public_client_sends_none() -> None:
    public = CognitoApp("us-east-1_Pool1", "app")
    assert "SecretHash" not in public.sign_up("ada@example.com", "Passw0rd!", {}).params
