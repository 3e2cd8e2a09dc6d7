"""Pulumi components that provision commercetools API credentials into secret stores.

Deliberately imports nothing: the dynamic provider process unpickles several providers on parallel
threads, and a package __init__ that imported the component (and through it every provider) made those
imports wait on each other ("deadlock detected by _ModuleLock") during `pulumi refresh`.
"""
