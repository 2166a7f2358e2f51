"""Workers' demands (职工诉求): filed from the mini-program, answered and tallied by caseworkers."""
