"""HTTP routes of the identity service."""

from typing import Annotated

from fastapi import APIRouter, Depends

from identity.inject import Container
from shared_kernel.service import container_of

router = APIRouter()
ContainerDep = Annotated[Container, Depends(container_of)]


@router.get("/", summary="サービス情報")
async def about(container: ContainerDep) -> dict[str, str]:
    return {"service": "identity", "title": "利用者管理サービス"}
