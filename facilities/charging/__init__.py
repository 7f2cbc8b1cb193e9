"""EV charging: chargers, their live status from the operator (OCPI), demand."""
