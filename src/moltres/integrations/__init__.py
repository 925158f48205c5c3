"""Framework glue: pytest, FastAPI, Django, Streamlit, Airflow, Prefect (each an optional extra)."""
