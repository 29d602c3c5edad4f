from alojamientos.cli import app

app(prog_name="alojamientos")
