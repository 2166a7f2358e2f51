"""The roster of model workers and craftsmen (劳模工匠) whom unions pair with enterprises."""
