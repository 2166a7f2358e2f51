"""The rectification report (整改意见) of a service order: its items and their rules (`items`),
who may read, write and track it (`access`), the summary per area and department (`summary`),
and the Excel sheet it is imported from and exported to (`excel`)."""
