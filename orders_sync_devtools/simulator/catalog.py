"""Static vocabulary of the simulated CRMs: names, services, prices, payment habits."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Aarav", "Aditi", "Aditya", "Akash", "Ananya", "Anil", "Anjali", "Arjun", "Deepa",
    "Divya", "Farhan", "Gaurav", "Geeta", "Harish", "Ishaan", "Kavya", "Kiran", "Lakshmi",
    "Manoj", "Meera", "Mohammed", "Neha", "Nikhil", "Pooja", "Pradeep", "Priya", "Rahul",
    "Rajesh", "Ramesh", "Ravi", "Rohan", "Sanjay", "Sara", "Shreya", "Sneha", "Suresh",
    "Swati", "Tanvi", "Uma", "Varun", "Venkat", "Vikram", "Vivek", "Zoya",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Agarwal", "Bhat", "Chatterjee", "Das", "Desai", "Fernandes", "Ghosh", "Gupta", "Iyer",
    "Jain", "Joshi", "Kapoor", "Khan", "Kulkarni", "Kumar", "Menon", "Mishra", "Nair",
    "Patel", "Pillai", "Rao", "Reddy", "Sharma", "Shetty", "Singh", "Sinha", "Verma",
)  # fmt: skip

BUSINESS_SUFFIXES: tuple[str, ...] = (
    "Enterprises", "Hospitality Pvt Ltd", "Traders", "Hotels LLP", "Textiles", "Events",
)  # fmt: skip

# service type -> (weight, (min pieces, max pieces), (min, max) unit price in paise, step)
SERVICES: dict[str, tuple[int, tuple[int, int], tuple[int, int], int]] = {
    "Dry Clean": (34, (1, 6), (15000, 45000), 500),
    "Wash & Fold": (18, (3, 15), (4000, 8000), 500),
    "Wash & Iron": (16, (2, 12), (6000, 12000), 500),
    "Steam Iron": (14, (2, 20), (1500, 4000), 250),
    "Shoe Cleaning": (5, (1, 3), (30000, 80000), 5000),
    "Curtain Cleaning": (5, (2, 8), (20000, 50000), 1000),
    "Saree Roll Polish": (4, (1, 4), (12000, 30000), 1000),
    "Carpet Cleaning": (2, (1, 2), (80000, 250000), 10000),
    "Leather Care": (2, (1, 2), (60000, 180000), 10000),
}

# mode -> weight
PAYMENT_MODES: dict[str, int] = {"UPI": 50, "Cash": 25, "Card": 18, "Wallet": 7}

# SAC code -> weight (9997: other services; 999711 laundry, 999712 dry cleaning)
SAC_CODES: dict[str, int] = {"999712": 65, "999711": 25, "999719": 8}

# GST state codes of a few states, for store home states and customers' GSTINs
STATE_CODES: tuple[str, ...] = ("07", "09", "24", "27", "29", "32", "33", "36")

# Monday=0 .. Sunday=6: weekends are busiest, Monday the quietest
WEEKDAY_FACTORS: tuple[float, ...] = (0.8, 0.9, 0.95, 1.0, 1.1, 1.45, 1.35)

# festive season (Dussehra/Diwali, wedding season) is busier
MONTH_FACTORS: dict[int, float] = {10: 1.2, 11: 1.25, 12: 1.1}
