"""Built-in dataset adapters, one module per dataset (registered in ``hvg_data._hvg_plugin``)."""
