"""WeChat: the one gateway the server talks to WeChat through, and the sandbox that stands in
for WeChat on loopback."""
