"""Service orders (点单): an enterprise orders help, the union pairs it with an expert, the expert
visits and writes a scored rectification report, the enterprise works it and rates the service."""
