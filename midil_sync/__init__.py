"""midil-kit's synchronous shell (requests, urllib3, boto3, threads).

Every public name here has a twin of the same name and parameters in :mod:`midil_async`.
"""

from typing import TYPE_CHECKING

from midil_common._lazy import exports

if TYPE_CHECKING:
    from midil_common.events.eventbridge import parse_eventbridge_event
    from midil_sync.auth.authorizers import (
        CognitoJWTAuthorizer,
        JWTAuthorizer,
        MultiIssuerAuthorizer,
    )
    from midil_sync.auth.oauth_client import OAuthClient
    from midil_sync.auth.remote_permissions import RemotePermissionChecker
    from midil_sync.auth.users import CognitoUserClient, UserSession
    from midil_sync.events.dispatcher import DrainResult, EventDispatcher
    from midil_sync.events.eventbridge import EventBridgePublisher
    from midil_sync.events.lambda_handler import sqs_batch_handler
    from midil_sync.events.periodic import PeriodicTask
    from midil_sync.events.scheduler import EventBridgeScheduler
    from midil_sync.events.sqs_consumer import SQSConsumer
    from midil_sync.events.sqs_publisher import SQSPublisher
    from midil_sync.http.client import HttpClient
    from midil_sync.http.providers import (
        APIKeyProvider,
        ClientCredentialsProvider,
        CognitoClientCredentialsAuthenticator,
        StaticTokenProvider,
    )

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
        "APIKeyProvider": "midil_sync.http.providers",
        "ClientCredentialsProvider": "midil_sync.http.providers",
        "CognitoClientCredentialsAuthenticator": "midil_sync.http.providers",
        "CognitoJWTAuthorizer": "midil_sync.auth.authorizers",
        "CognitoUserClient": "midil_sync.auth.users",
        "DrainResult": "midil_sync.events.dispatcher",
        "EventBridgePublisher": "midil_sync.events.eventbridge",
        "EventBridgeScheduler": "midil_sync.events.scheduler",
        "EventDispatcher": "midil_sync.events.dispatcher",
        "HttpClient": "midil_sync.http.client",
        "JWTAuthorizer": "midil_sync.auth.authorizers",
        "MultiIssuerAuthorizer": "midil_sync.auth.authorizers",
        "OAuthClient": "midil_sync.auth.oauth_client",
        "PeriodicTask": "midil_sync.events.periodic",
        "RemotePermissionChecker": "midil_sync.auth.remote_permissions",
        "SQSConsumer": "midil_sync.events.sqs_consumer",
        "SQSPublisher": "midil_sync.events.sqs_publisher",
        "StaticTokenProvider": "midil_sync.http.providers",
        "UserSession": "midil_sync.auth.users",
        "parse_eventbridge_event": "midil_common.events.eventbridge",
        "sqs_batch_handler": "midil_sync.events.lambda_handler",
    },
)
