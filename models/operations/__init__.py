"""What operators watch and do to a running deployment: the queue figures behind GET /metrics
(`figures`). Nothing here is a rule about a case; it reads the other domains' tables."""
