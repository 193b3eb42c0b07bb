"""The History workspace: past runs and studies, reopened, compared, resumed and exported."""
