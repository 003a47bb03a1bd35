# syntax=docker/dockerfile:1
# One image per service: `make image SERVICE=registro` (or any of tablero, registro, postal, electronico,
# computo, credenciales). Every image carries the whole code base (the services share shared/ and shared/procesos/); the
# argument only sets the default command, and deploy/k8s gives each container its command explicitly.
#   docker build --build-arg SERVICE=registro -t vmre-registro .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: dependencies in a venv (wheels only; nothing to compile, so no toolchain here either) -------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/vmre
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY vmre ./vmre
COPY clientes ./clientes
COPY simulacion ./simulacion
# The project is installed for its dependencies and its `vmre` command; at run time /app (PYTHONPATH) wins,
# with the static files (cabina, tablero) that the wheel's package data does not carry.
RUN /opt/vmre/bin/pip install --no-compile . \
    && /opt/vmre/bin/python -m compileall -q -j 0 /opt/vmre /src/shared /src/services /src/vmre /src/clientes /src/simulacion

# ---- runtime: slim, non-root, read-only friendly --------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE=registro
LABEL org.opencontainers.image.title="vmre-${SERVICE}" \
      org.opencontainers.image.description="VMRE: servicio ${SERVICE}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN case "${SERVICE}" in tablero|registro|postal|electronico|computo|credenciales) ;; \
      *) echo "SERVICE=${SERVICE}: use tablero, registro, postal, electronico, computo o credenciales" >&2; \
         exit 1 ;; esac \
    && groupadd --system --gid 10001 vmre \
    && useradd --system --uid 10001 --gid vmre --home-dir /app --no-create-home --shell /usr/sbin/nologin vmre \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/vmre
ENV PATH=/opt/vmre/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VMRE_DATA_DIR=/var/lib/vmre \
    VMRE_SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build /opt/vmre /opt/vmre
COPY --from=build /src/shared ./shared
COPY --from=build /src/services ./services
COPY --from=build /src/vmre ./vmre
COPY --from=build /src/clientes ./clientes
COPY --from=build /src/simulacion ./simulacion
USER 10001:10001
EXPOSE 8000-8004
# The service's own port (shared/settings.py SERVICES) is set by VMRE_<SERVICIO>_PORT in Kubernetes; this
# default serves on the port of the same name from the code, so `docker run` works too.
CMD ["/bin/sh", "-c", "exec uvicorn --factory \"services.${VMRE_SERVICE}.main:create_app\" --host 0.0.0.0 --port \"$(python -c \"from shared.settings import SERVICES; print(SERVICES['${VMRE_SERVICE}'])\")\" --no-access-log --timeout-graceful-shutdown 20"]
