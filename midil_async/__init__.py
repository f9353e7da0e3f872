"""midil-kit's asynchronous shell (httpx, aiobotocore, asyncio).

Every public name here has a twin of the same name and parameters in :mod:`midil_sync`.
"""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_async.auth.authorizers import (
        CognitoJWTAuthorizer,
        JWTAuthorizer,
        MultiIssuerAuthorizer,
    )
    from midil_async.auth.oauth_client import OAuthClient
    from midil_async.auth.remote_permissions import RemotePermissionChecker
    from midil_async.auth.users import CognitoUserClient, UserSession
    from midil_async.events.dispatcher import DrainResult, EventDispatcher
    from midil_async.events.eventbridge import EventBridgePublisher
    from midil_async.events.lambda_handler import sqs_batch_handler
    from midil_async.events.periodic import PeriodicTask
    from midil_async.events.scheduler import EventBridgeScheduler
    from midil_async.events.sqs_consumer import SQSConsumer
    from midil_async.events.sqs_publisher import SQSPublisher
    from midil_async.http.client import HttpClient
    from midil_async.http.providers import (
        APIKeyProvider,
        ClientCredentialsProvider,
        CognitoClientCredentialsAuthenticator,
        StaticTokenProvider,
    )
    from midil_common.events.eventbridge import parse_eventbridge_event

__all__: list[str] = [
    "APIKeyProvider",
    "ClientCredentialsProvider",
    "CognitoClientCredentialsAuthenticator",
    "CognitoJWTAuthorizer",
    "CognitoUserClient",
    "DrainResult",
    "EventBridgePublisher",
    "EventBridgeScheduler",
    "EventDispatcher",
    "HttpClient",
    "JWTAuthorizer",
    "MultiIssuerAuthorizer",
    "OAuthClient",
    "PeriodicTask",
    "RemotePermissionChecker",
    "SQSConsumer",
    "SQSPublisher",
    "StaticTokenProvider",
    "UserSession",
    "parse_eventbridge_event",
    "sqs_batch_handler",
]

# Imported on first use (PEP 562): a plain HttpClient import loads no JWT or settings machinery.
__getattr__, __dir__ = exports(
    __name__,
    {
        "APIKeyProvider": "midil_async.http.providers",
        "ClientCredentialsProvider": "midil_async.http.providers",
        "CognitoClientCredentialsAuthenticator": "midil_async.http.providers",
        "CognitoJWTAuthorizer": "midil_async.auth.authorizers",
        "CognitoUserClient": "midil_async.auth.users",
        "DrainResult": "midil_async.events.dispatcher",
        "EventBridgePublisher": "midil_async.events.eventbridge",
        "EventBridgeScheduler": "midil_async.events.scheduler",
        "EventDispatcher": "midil_async.events.dispatcher",
        "HttpClient": "midil_async.http.client",
        "JWTAuthorizer": "midil_async.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_async.auth.authorizers",
        "OAuthClient": "midil_async.auth.oauth_client",
        "PeriodicTask": "midil_async.events.periodic",
        "RemotePermissionChecker": "midil_async.auth.remote_permissions",
        "SQSConsumer": "midil_async.events.sqs_consumer",
        "SQSPublisher": "midil_async.events.sqs_publisher",
        "StaticTokenProvider": "midil_async.http.providers",
        "UserSession": "midil_async.auth.users",
        "parse_eventbridge_event": "midil_common.events.eventbridge",
        "sqs_batch_handler": "midil_async.events.lambda_handler",
    },
)
