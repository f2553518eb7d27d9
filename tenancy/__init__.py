"""The tenancy engine: context, resolver, isolation backends, provisioning and fleet migrations."""
