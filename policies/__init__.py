"""CrossGuard policy pack for the commercetools credentials stacks.

Each rule is a plain function over plain data (dicts, lists, strings) in its own module, unit-tested by calling
it directly; `adapters` wraps rules into pulumi-policy `Policy` objects, `pack.POLICIES` lists them, and
`__main__.py` only hands that list to `PolicyPack` (which starts the analyzer's gRPC server and never returns).
"""
