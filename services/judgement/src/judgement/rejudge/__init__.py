"""再判定 (re-judgement): the operators' command and the service's consumer of its requests."""
