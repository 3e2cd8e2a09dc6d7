"""A downstream service's stack: where are my commercetools credentials, and which version is current?

It reads the credentials stack's `connectors` output with a StackReference. The document says where the secret
lives; the service fetches the secret itself, at run time, with its own identity (see README, "Downstream").
"""

import pulumi

config = pulumi.Config()
credentials = pulumi.StackReference(config.require("credentialsStack"))
name = config.require("connector")
document = credentials.require_output("connectors").apply(lambda docs: docs[name])

pulumi.export("projectKey", document.apply(lambda d: d["projectKey"]))
pulumi.export("authUrl", document.apply(lambda d: d["authUrl"]))
pulumi.export("scope", document.apply(lambda d: d["scope"]))
pulumi.export("secretRef", document.apply(lambda d: d["secretRef"]))
