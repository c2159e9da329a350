"""The forwarding media relay on aiortc: participants' encoded media passes through without being decoded."""
