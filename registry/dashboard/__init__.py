"""The regulator's dashboard (总览) and an institution user's home page (本机构)."""
